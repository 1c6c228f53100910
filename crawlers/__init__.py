"""Readers of outside corpora and sources of documents."""
