"""The tasks specific to each pipeline; the DAG files only wire them."""
