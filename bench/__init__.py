"""Benchmarks: Palabre side by side with Isso, at scale, and on two instances."""
