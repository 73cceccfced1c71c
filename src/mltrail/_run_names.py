"""Readable random run names such as ``"brave-owl-417"``.

A name is ``<adjective>-<noun>-<number>`` with the number in 0..999, drawn from the operating
system's random source, so names do not repeat in step across processes that fork or seed
``random`` the same way. The word lists are our own; every word is lowercase ASCII letters only,
so a name always matches ``[a-z]+-[a-z]+-[0-9]{1,3}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from random import SystemRandom

__all__ = ["ADJECTIVES", "NOUNS", "generate_run_name"]

_ADJECTIVE_WORDS = """
    agile amber ample azure balmy bold brave breezy bright brisk bubbly calm careful cheery
    chipper clever cosmic cozy crisp curious dapper daring dazzling deft eager earnest easy
    elated electric epic fancy fearless festive fluffy fond friendly frosty gentle giddy
    glad gleaming golden graceful grand happy hardy hearty helpful honest humble jaunty
    jolly jovial keen kind lively lucid lucky mellow merry mighty modest nimble noble
    patient peppy placid playful plucky polite proud quick quiet radiant rapid ready rosy
    rustic serene sharp shiny silent silver sincere smooth snappy snug sonic sparkly spry
    steady sturdy sunny swift tidy tranquil trusty upbeat valiant vivid warm wise witty
    zesty
"""
ADJECTIVES: tuple[str, ...] = tuple(_ADJECTIVE_WORDS.split())

_NOUN_WORDS = """
    acorn albatross alpaca anchor antelope badger beacon beaver bison bobcat breeze buffalo
    canyon cardinal caribou cheetah comet condor coral cougar crane cricket dolphin dove
    dragonfly eagle ember falcon fern ferret finch firefly fjord fox gazelle gecko glacier
    goose grove gull hare harbor hawk hedgehog heron horizon ibis iguana jackal jaguar
    kestrel kiwi koala lagoon lantern lark lemur leopard lynx magpie manatee maple marmot
    meadow meerkat mink moose narwhal nebula newt ocelot orca osprey otter owl panda panther
    parrot pebble pelican penguin pine puffin quail quokka rabbit raven reef robin salmon
    seal sparrow squirrel starling stork swan tapir tiger toucan trout tulip turtle walrus
    willow wombat wren yak zebra
"""
NOUNS: tuple[str, ...] = tuple(_NOUN_WORDS.split())

_rng: SystemRandom | None = None


def generate_run_name() -> str:
    """A new readable random run name, e.g. ``"brave-owl-417"``."""
    global _rng
    if _rng is None:
        from random import SystemRandom

        _rng = SystemRandom()
    return f"{_rng.choice(ADJECTIVES)}-{_rng.choice(NOUNS)}-{_rng.randrange(1000)}"
