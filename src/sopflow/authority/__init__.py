"""Who may act: the credentials an actor holds at the moment of an action.

The engine never trusts a role because a caller says so once a deployment has a staff
directory; it asks an :class:`Authority` what the person holds *then* (definitive,
Plt. or Plh. positions, in which unit). Without a directory, :class:`TrustedCaller`
keeps sopflow 0.1's behaviour: the roles on the :class:`~sopflow.Actor` are taken as
given, and the store says it runs in that mode.
"""

from __future__ import annotations

from sopflow.authority.base import Authority, Credentials, Holding, TrustedCaller

__all__ = ["Authority", "Credentials", "Holding", "TrustedCaller"]
