"""Collections and Entities (samples): the containers that group Data objects."""
