"""Revisions of the authentication schema, ``auth_<NNNN>_<name>``, oldest first."""
