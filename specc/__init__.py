"""specc: describe a neural network once, check it, and compile it to PyTorch or Keras."""

__version__ = "0.1.0"
