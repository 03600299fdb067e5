"""End-to-end tests over loopback HTTP against the sandbox."""
