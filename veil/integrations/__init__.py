"""Framework integrations; each module imports its framework lazily."""
