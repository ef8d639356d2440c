# Shared helpers of the re-* runtime utilities (resolwe-prefect).
#
# POSIX sh only (dash, busybox ash, bash): no Python, no jq, no `local`.
# Sourced by every re-* script; never executed on its own.
#
# Each utility appends ONE record to the file named by $RESOLWE_COMMANDS_FILE.
# Record layout (bytes; see resolwe_prefect/runtime/commands.py):
#
#     "RE1" NUL <argc> NUL <name> NUL <arg_1> NUL ... <arg_argc> NUL "\n"
#
# A shell argument can never contain NUL, so any argument content (newlines,
# quotes, JSON, binary-ish text) survives unchanged.  The record is written by
# one printf while holding a mkdir(2) lock ("$RESOLWE_COMMANDS_FILE.lock"):
# shells split long printf output into several write(2) calls, the lock keeps
# concurrent writers (background jobs) from interleaving.

_re_prog=${0##*/}

_re_lock() {
    _re_lockdir="$RESOLWE_COMMANDS_FILE.lock"
    _re_tries=0
    while ! mkdir "$_re_lockdir" 2>/dev/null; do
        _re_tries=$((_re_tries + 1))
        if [ "$_re_tries" -eq 200 ]; then
            # ~10 s: assume the holder was killed mid-write; break the lock.
            rmdir "$_re_lockdir" 2>/dev/null
        elif [ "$_re_tries" -gt 400 ]; then
            # The lock cannot be created at all (read-only directory?):
            # write without it rather than hang the program.
            _re_lockdir=
            return 0
        fi
        sleep 0.05 2>/dev/null || sleep 1
    done
}

_re_unlock() {
    if [ -n "$_re_lockdir" ]; then
        rmdir "$_re_lockdir" 2>/dev/null
    fi
    _re_lockdir=
}

# _re_record NAME [ARG...]: append one record.
_re_record() {
    if [ -z "${RESOLWE_COMMANDS_FILE:-}" ]; then
        echo "$_re_prog: RESOLWE_COMMANDS_FILE is not set; report dropped: $*" >&2
        return 1
    fi
    _re_name=$1
    shift
    _re_fmt='RE1\0%s\0%s\0'
    _re_i=0
    while [ "$_re_i" -lt "$#" ]; do
        _re_fmt="$_re_fmt"'%s\0'
        _re_i=$((_re_i + 1))
    done
    _re_fmt="$_re_fmt"'\n'
    _re_lock
    # shellcheck disable=SC2059
    printf "$_re_fmt" "$#" "$_re_name" "$@" >>"$RESOLWE_COMMANDS_FILE"
    _re_rc=$?
    _re_unlock
    return "$_re_rc"
}

# _re_fail MESSAGE: report an error (Resolwe's process_error) and exit 1.
_re_fail() {
    _re_record error "$1"
    exit 1
}

# _re_trim STRING: strip leading/trailing whitespace into $_re_trimmed.
_re_trimmed=
_re_trim() {
    _re_trimmed=$1
    while :; do
        case $_re_trimmed in
            [[:space:]]*) _re_trimmed=${_re_trimmed#?} ;;
            *) break ;;
        esac
    done
    while :; do
        case $_re_trimmed in
            *[[:space:]]) _re_trimmed=${_re_trimmed%?} ;;
            *) break ;;
        esac
    done
}

# _re_check_refs KEY REFS...: exit with Resolwe's error when a ref is neither
# a file nor a directory.
_re_check_refs() {
    _re_key=$1
    shift
    _re_missing=
    for _re_ref in "$@"; do
        if [ ! -f "$_re_ref" ] && [ ! -d "$_re_ref" ]; then
            if [ -z "$_re_missing" ]; then
                _re_missing=$_re_ref
            else
                _re_missing="$_re_missing, $_re_ref"
            fi
        fi
    done
    if [ -n "$_re_missing" ]; then
        _re_fail "Output '$_re_key' set to missing references: '$_re_missing'."
    fi
}

# _re_check_list KIND KEY SPEC...: validate "<path>[:<ref>,<ref>...]" specs of
# re-save-file-list (KIND=file) / re-save-dir-list (KIND=dir).
_re_check_list() {
    _re_kind=$1
    _re_lkey=$2
    shift 2
    for _re_spec in "$@"; do
        case $_re_spec in
            *:*:*)
                _re_fail "Only one colon ':' allowed in $_re_kind-refs specification."
                ;;
            *:*)
                _re_path=${_re_spec%%:*}
                _re_refs=${_re_spec#*:}
                ;;
            *)
                _re_path=$_re_spec
                _re_refs=
                ;;
        esac
        if [ "$_re_kind" = file ]; then
            [ -f "$_re_path" ] ||
                _re_fail "Output '$_re_lkey' set to a missing file: '$_re_path'."
        else
            [ -d "$_re_path" ] ||
                _re_fail "Output '$_re_lkey' set to a missing directory: '$_re_path'."
        fi
        if [ -n "$_re_refs" ]; then
            _re_lmissing=
            _re_rest="$_re_refs,"
            while [ -n "$_re_rest" ]; do
                _re_trim "${_re_rest%%,*}"
                _re_rest=${_re_rest#*,}
                if [ ! -f "$_re_trimmed" ] && [ ! -d "$_re_trimmed" ]; then
                    if [ -z "$_re_lmissing" ]; then
                        _re_lmissing=$_re_trimmed
                    else
                        _re_lmissing="$_re_lmissing, $_re_trimmed"
                    fi
                fi
            done
            if [ -n "$_re_lmissing" ]; then
                _re_fail "Output '$_re_lkey' set to missing references: '$_re_lmissing'."
            fi
        fi
    done
}

# _re_sanitize_tree DIR: keep only regular files and directories in DIR, a
# directory an archive was just extracted into (by unzip, tar, 7z, ...).
# Whatever a link in an upload points to (the server's database, another
# Data object) must never be packed, moved or served, so every symbolic
# link (wherever it points), device, FIFO and socket is removed, and so is
# every regular file with a hard link outside DIR; set-id bits are cleared.
# Names are never parsed (find -exec only): archive member names can hold
# newlines.  Sets $_re_removed to the number of entries removed; returns 1
# if anything but regular files and directories is left.
_re_sanitize_tree() {
    # An unreadable or unsearchable directory would hide its content from find.
    find "$1" -type d ! -perm -700 -exec chmod u+rwx {} \; 2>/dev/null
    _re_removed=$(find "$1" ! -type f ! -type d -exec printf x \; -exec rm -f {} \; | wc -c)
    # A hard link is kept only when all its links are inside DIR (-links N is exact).
    _re_hard=$(find "$1" -type f -links +1 -exec sh -c '
        root=$1
        shift
        for f do
            n=$(find "$root" -type f -samefile "$f" -exec printf x \; 2>/dev/null | wc -c)
            if [ -z "$(find "$f" -prune -links "$((n))" 2>/dev/null)" ]; then
                rm -f "$f" && printf x
            fi
        done' sh "$1" {} + | wc -c)
    _re_removed=$((_re_removed + _re_hard))
    find "$1" -type f \( -perm -4000 -o -perm -2000 \) -exec chmod ug-s {} \; 2>/dev/null
    _re_left=$(find "$1" ! -type f ! -type d -exec printf x \; | wc -c)
    [ "$((_re_left))" -eq 0 ]
}
