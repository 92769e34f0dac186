"""Analyses of trained networks (no training here): representations and their statistics."""
