"""Helpers shared by test modules of several tiers (test modules never import each other)."""
