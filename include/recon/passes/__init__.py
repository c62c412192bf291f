"""Matching in ordered passes: keyed, rule, group (one-to-many, many-to-one), many-to-many."""
