"""The Python home of the Diaspora Stream API."""
