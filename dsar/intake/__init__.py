"""E-mail intake: the pure parts (parse a raw message, classify the request it carries)."""
