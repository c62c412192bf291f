"""recon core."""
