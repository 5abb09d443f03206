"""The single place where digitcnn's version is defined."""

__version__ = "0.1.0"
