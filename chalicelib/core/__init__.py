"""Core pieces every feature uses: settings, AWS clients, errors, observability, HTTP helpers."""
