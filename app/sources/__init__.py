"""Sources of the bank (issue 18): folders, files, archives and git repositories a user
imports by name, remembered with where they came from; listed, re-imported, removed."""
