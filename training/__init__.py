"""Training of the built-in coach model (torch, CPU): `python -m training.train`."""
