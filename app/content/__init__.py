"""The question bank: markdown files parsed into questions, imported into the database.

``parser`` turns one file's text into a ``ParsedFile``; ``loader`` finds and reads files
safely; ``importer`` writes a set of parsed files in one transaction; ``report`` prints
what happened for a person or as JSON.
"""
