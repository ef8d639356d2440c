"""The Prefect layer: each Data object is one flow run.

``flows`` and ``tasks`` hold the flow that stages, renders, runs and collects
one Data object; ``backends`` run the program (local subprocess, Docker,
Kubernetes); ``submit`` creates flow runs; ``worker`` picks them up without
polling delay; ``events`` makes sure every final state reaches its Data
object even when no hook fires. Nothing here speaks HTTP to users.
"""
