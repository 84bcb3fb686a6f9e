"""Waves: plan a node's routed work into waves and batch each wave into pick lists."""
