"""Judges (评委), their conflicts of interest (回避) and their assignments to entries."""
