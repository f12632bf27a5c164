"""Human decisions inside a running phase: typed Prefect pause-for-input forms, applied as parameters."""
