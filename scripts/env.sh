# Sourced by the scripts: no telemetry (there is no network), quiet Prefect analytics.
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export CREWAI_DISABLE_TELEMETRY=true
export OTEL_SDK_DISABLED=true
export CREWAI_TRACING_ENABLED=false
export HF_HUB_OFFLINE=1
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::DeprecationWarning}
