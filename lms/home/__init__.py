"""The front door: the home page for each role, the language switch and the error pages."""
