"""What each phase leaves in the Prefect UI: a summary, tables and pictures under stable keys.

``publish_phase_artifacts(ctx, metrics)`` is called by ``run_phase`` once the phase's gate
passed; the per-phase builders (``discovery.py`` ...) read aggregates through
``db.repositories.reports`` and return plain values (``model.py``) that ``publish.py`` sends.
"""
