"""The attribute mapper: header words, value profiles, meanings, known formats and learned patterns.

``mapper.Mapper.propose`` is the pure core (a sheet's sample in, one proposal per column out);
``learning`` stores and finds confirmed mappings in the database; ``attribute_mapping`` (the
discovery step) and ``mfactory map`` use both.
"""
