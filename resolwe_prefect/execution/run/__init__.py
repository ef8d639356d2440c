"""What a Data flow run does, under any Prefect worker (embedded, process, Docker or Kubernetes pool).

``plan`` starts the attempt and holds what the run knows; ``steps`` are its
Prefect tasks; ``program`` prepares the program's context, environment and
job; ``outputs`` and ``children`` collect what it produced; ``artifacts``
show progress and outputs in the Prefect UI; ``staging`` finds uploaded
files; ``hooks`` catch a crashed or cancelled run; ``launched`` creates the
Data object of a launch from the UI.
"""
