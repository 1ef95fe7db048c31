"""The local backend: each cluster a process of its own on this machine, jobs local subprocesses."""

from .clusters import LocalBackend

__all__ = ["LocalBackend"]
