"""Push-token endpoints: to be written (issue 3, item 7)."""
