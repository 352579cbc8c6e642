"""Runs the synthesized app against an embedded AWS (moto), the way AWS would run it."""
