"""Workflow definitions: YAML data, checked against the published schema and as a graph when loaded."""
