"""Discovery's cleansing rules: loaded from ``mfactory/data/cleansing_rules.yaml``, applied column-wise.

``rules`` parses and checks the rule file (pure); ``text``, ``numbers``, ``os_names``, ``network`` and
``environment`` apply one kind of rule each to whole pandas columns and say how many values they
changed; ``engine`` puts them together for one sheet, and ``tasks/discovery/data_cleansing.py``
(the step) stores what it found and gates the result.
"""
