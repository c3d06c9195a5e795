"""dsar: DSAR workflow engine for Korean privacy law."""
