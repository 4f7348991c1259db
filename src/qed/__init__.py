"""QED: a deep-learning interview knowledge base in which every answer is proven by code."""

__version__ = "0.1.0"
