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

# -- the consultation: the draft Dental Services Bill (townhall/demo/dental-bill.yaml) --------
#: Share of each platform's crowd who start it, and of those the chance of going on to the next
#: item (the rest stop there), of leaving one item unanswered, and of writing a comment or a why.
CONSULTATION_TURNOUT = 0.35
KEEP_GOING = 0.95
SKIP = 0.03
COMMENT = 0.3
WHY = 0.35
TEXT_ONLY = 0.04  # a comment or a why without a stance or a rating
ASK = 0.75
SCALE_WEIGHTS = (0.3, 0.32, 0.14, 0.16, 0.08)  # easy to get NHS dental care? mostly not
POLL_WEIGHTS = (0.48, 0.3, 0.22)
#: Agree / Needs changes / Disagree, per clause number: where the Bill is contested shows.
STANCES = {
    "1": (0.7, 0.22, 0.08),
    "2": (0.32, 0.4, 0.28),
    "3": (0.44, 0.38, 0.18),
    "4": (0.78, 0.15, 0.07),
    "5": (0.5, 0.35, 0.15),
    "6": (0.38, 0.24, 0.38),
    "7": (0.72, 0.18, 0.1),
    "8": (0.6, 0.3, 0.1),
}
#: Improve / Keep as is / Scrap, per regulation in file order.
RATINGS = (
    (0.34, 0.2, 0.46),
    (0.22, 0.5, 0.28),
    (0.58, 0.08, 0.34),
    (0.3, 0.12, 0.58),
)
CLAUSE_COMMENTS = {
    "1": (
        "Sufficient is too vague: set a number of NHS places per thousand people.",
        "Good, but boards need the money to go with the duty.",
    ),
    "2": (
        "Charges should be frozen for five years, not left to regulations.",
        "Add people on Universal Credit to the list of those who pay nothing.",
        "Carers should be exempt too.",
    ),
    "3": (
        "48 hours for urgent care is fine; 12 weeks for a check-up is far too long.",
        "Who checks the practices meet these times, and what happens when they don't?",
    ),
    "4": ("Publish it on the NHS website too, not only at the practice.",),
    "5": (
        "The nearest NHS dentist to our village is a 50 minute bus ride away.",
        "Mobile dental vans for rural areas would help more than grants.",
    ),
    "6": (
        "Eleven years is longer than most records are ever looked at.",
        "Keep records longer for children: until they are 25.",
        "Let patients get a copy of their records online.",
    ),
    "7": ("The report should show waiting times per area, not just national figures.",),
    "8": ("Two years before it starts is too slow; people need dentists now.",),
}
WHYS = (
    (
        "Paper records could be scanned after three years.",
        "Eleven years of storage costs small practices a fortune.",
    ),
    ("Patients need to know which practices take NHS patients.",),
    (
        "Units of activity pay the same for one filling as for ten, so practices turn away "
        "people with a lot of work to do.",
        "Pay practices per patient instead.",
    ),
    (
        "Nobody should have to fill in a paper form when the NHS can check their benefits.",
        "People get fined for ticking the wrong box by mistake.",
    ),
)
CONSULTATION_ANSWERS = (
    "Train more dentists and make them work some years in the NHS.",
    "Bring back school dental checks.",
    "Make it easier to register with a practice near work, not just near home.",
    "Let dental therapists and hygienists do more of the routine work.",
    "Tell people how long the wait is before they join a list.",
)
