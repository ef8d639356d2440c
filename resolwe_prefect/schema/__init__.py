"""Field schemas of processes and descriptors, and the values they describe.

Pure (no Django, no Prefect), so that the API, the runtime, the execution
layer and the expression context share one definition of what a field is:

* :mod:`.types` - type strings (``data:genome:fasta:``) and their hierarchy;
* :mod:`.walk` - the one walk over a schema and its values (groups, lists);
* :mod:`.fields` - validation of values and filling in of defaults;
* :mod:`.errors` - the problems validation finds, in Resolwe's words;
* :mod:`.metaschemas` - the JSON meta-schemas of definitions and values.
"""
