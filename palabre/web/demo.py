"""The demo article shown at ``/``: a news page as a publisher would have it, then the widget."""

from __future__ import annotations

from typing import Any

ARTICLE: dict[str, Any] = {
    "title": "Northbridge library swaps its ageing catalogue for open-source software",
    "standfirst": (
        "The move cuts the licence bill by two thirds and, librarians say, puts the valley's "
        "32,000 borrowers back in charge of their own reading history."
    ),
    "author": "Maya Okonkwo",
    "date": "12 March 2025",
    "date_iso": "2025-03-12",
    "body": [
        {
            "p": (
                "For eleven years, anyone looking for a book at one of Northbridge's four public "
                "libraries has typed into the same grey search box, licensed from a company in "
                "another country at a cost of just over £41,000 a year. On Monday the box went "
                "dark, and a new catalogue built on open-source software took its place."
            )
        },
        {
            "p": (
                "The switch, approved by the council's culture committee in the autumn, is the "
                "first of its kind in the county. The new system runs on two small servers in the "
                "basement of the central library on Abbey Road, maintained by the library's own "
                "staff and a volunteer group from Northbridge College."
            )
        },
        {
            "quote": (
                "“We were paying every year to rent something we could never change. Now, if a "
                "reader asks for a feature, we can actually build it.”"
            )
        },
        {
            "p": (
                "Head librarian Priya Raman said the savings, about £27,000 a year once hosting "
                "and support are counted, would go towards longer Saturday opening hours at the "
                "Eastfield and Brook Lane branches, which were cut back in 2019."
            )
        },
        {"h": "What changes for borrowers"},
        {
            "p": (
                "Borrowers keep their card numbers and PINs. Loans, reservations and fines were "
                "moved over the weekend, and the library says fewer than forty records "
                "needed to be fixed by hand. The most visible change is speed: a search that "
                "used to take several seconds now answers almost instantly, even on the "
                "library's oldest computers."
            )
        },
        {
            "p": (
                "Less visible, but important to the staff, is what the system no longer does. The "
                "old catalogue kept a complete history of every book a reader had borrowed, "
                "indefinitely, on servers the library did not control. The new one forgets a loan "
                "thirty days after it is returned, unless the reader asks it to remember."
            )
        },
        {"h": "Teething problems"},
        {
            "p": (
                "Not everything has gone smoothly. On its first morning the self-service kiosks at "
                "Brook Lane refused to print receipts, and the mobile app will not be ready until "
                "May. Councillor Tom Adeyemi, who voted against the project, said he would be "
                "watching the costs closely. “Free software is not free to run,” he said."
            )
        },
        {
            "p": (
                "The library is asking readers to report problems at any branch desk, and "
                "says it will publish a short report on the first three months in the summer. "
                "Have you used the new catalogue yet? Tell us what you think below."
            )
        },
    ],
}
