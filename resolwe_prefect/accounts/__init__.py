"""Users, groups and login: the identities every object records as contributor."""
