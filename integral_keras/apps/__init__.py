"""Applications built on the package: end-to-end studies and tools that combine its public functions."""
