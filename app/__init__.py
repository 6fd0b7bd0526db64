"""Interview Lab: study LLM-engineering interview questions.

The web process lives in ``app.main`` and ``app.web``; the question bank's parser and
importer in ``app.content``. Nothing imported from here may import torch.
"""
