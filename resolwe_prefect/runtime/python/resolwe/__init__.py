"""Resolwe's in-program Python runtime, as resolwe-prefect ships it.

This tree is mounted read-only at ``/opt/resolwe/python`` and put on
``PYTHONPATH`` of a Python process, so that ``from resolwe.process import ...``
works in any image with ``python3`` (3.9+). It is NOT the Resolwe server
package: only :mod:`resolwe.process` exists here. Standard library only (plus
``plumbum``, mounted beside it, for ``Cmd``).
"""
