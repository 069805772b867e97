"""The example JSON API that stands for the application."""
