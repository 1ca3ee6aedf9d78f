"""molvae: a SELFIES GRU variational autoencoder for molecular generation."""
__version__ = "0.1.0"
