"""The sample consultation: places, people, items and answers (all made up)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.web.links import PUBLIC_CHANNEL

PLATFORMS = ("telegram", "slack", "discord", "web")
CHANNELS = {
    "telegram": "-1001847362915",  # a residents' supergroup
    "slack": "C05HGTWNSQR",  # #town-square in a community workspace
    "discord": "1187245061234567890",  # #have-your-say on a community server
    "web": PUBLIC_CHANNEL,
}
#: What each platform would call those channels when asked at publishing time.
CHANNEL_NAMES = {
    "telegram": "Harrowgate Residents",
    "slack": "#town-square",
    "discord": "#have-your-say",
    "web": "Public page",
}
#: The made-up policy officer (one account per platform) and moderator; their roles exist only
#: while the demo runs, never in the database or your settings.
OFFICERS = {"slack": "U05DEMOPLCY", "telegram": "5550100001", "discord": "1187000000000000001"}
MODERATOR = ("slack", "U05DEMOMODS")
#: How many made-up people take part from each platform.
CROWD = {"telegram": 22, "slack": 14, "discord": 18, "web": 26}


@dataclass(frozen=True, slots=True)
class ItemPlan:
    key: str
    platform: str  # where the officer typed the command
    command: str
    days_ago: float
    turnout: float  # share of each platform's crowd that votes
    weights: tuple[float, ...] = ()  # single choice: relative weights; multi: probabilities

    @property
    def is_choice(self) -> bool:
        return not self.command.startswith("ask")

    @property
    def is_multi(self) -> bool:
        return "--multi" in self.command


ITEMS = (
    ItemPlan(
        "library",
        "slack",
        'poll "Should Harrowgate Central Library open on Sundays?" "Yes, every Sunday" '
        '"Yes, but only in term time" "No, keep the current hours" --closes 14d',
        6.8,
        0.62,
        (0.5, 0.22, 0.28),
    ),
    ItemPlan(
        "redtape",
        "slack",
        'poll "Red Tape Challenge: the licensing rules for pavement cafés and tables outside '
        'pubs. What should we do with them?" "Improve them" "Keep them as they are" '
        '"Scrap them" --closes 3d --results closed',
        6.5,
        0.48,
        (0.46, 0.18, 0.36),
    ),
    ItemPlan(
        "twenty",
        "telegram",
        'poll "Where should the new 20 mph limits go first? Choose all that apply." '
        '"Streets around schools" "Residential side streets" "The town centre" '
        '"Roads through the villages" --multi --closes 10d',
        5.2,
        0.5,
        (0.82, 0.52, 0.33, 0.41),
    ),
    ItemPlan(
        "clause3",
        "discord",
        'scale "Clause 3 of the draft Local Bus Services Bill (capping single fares at £2) '
        'is clear and easy to understand" --closes 21d',
        3.9,
        0.42,
        (0.08, 0.17, 0.24, 0.35, 0.16),
    ),
    ItemPlan(
        "highstreet",
        "slack",
        'ask "What one change would make the high street a better place to visit?" --closes 14d',
        4.6,
        0.0,
    ),
)

VISIBLE_ANSWERS = (
    "More benches and some shade along the pedestrian stretch: my mum can't walk the whole "
    "length without a rest.",
    "Free parking for the first hour. People drive to the retail park because it's free.",
    "Fill the empty units with pop-up shops or community groups instead of leaving them "
    "boarded up.",
    "Better evening buses from the estates. The last bus back is at half six.",
    "Bring back the Saturday market.",
    "Public toilets that are actually open after 4pm.",
    "Secure cycle parking near the library and the station.",
    "Lower business rates for independent shops for their first two years.",
    "Empty the bins more often at weekends, they overflow every Sunday.",
    "Fewer vape shops and betting shops, more cafés and places to sit.",
    "Summer events in the square: music, food stalls, something for the kids.",
    "Step-free access into the shops; half of them have a step at the door.",
)
#: Held by screening (strict moderation): personal data, abuse, a repeat.
PHONE_ANSWER = "Ring me on 07700 900461 and I'll tell you what's wrong with the bins on Mill Lane."
BAKERY_ANSWER = (
    "I run the bakery at 14 Market Street, HG1 2AB. Happy to talk about late opening, email "
    "sam.baker@example.co.uk"
)
ABUSE_ANSWER = "The councillors are useless fucking idiots who never listen."
REPORTED_ANSWER = (
    "Move the rough sleepers out of the shop doorways, they put people off coming into town."
)
ONCE_REPORTED_ANSWER = "Shut the high street to cars completely, it's the only way."
