"""Mock interviews (issue 20): questions one at a time for a company and round, weighted
to what that company asked and to the user's weak topics, timed, answered in the user's
own words, compared with the reference answer, graded into the flashcards, and reported.

``pick`` chooses the questions, ``service`` runs a mock interview, ``report`` sums one
up, ``history`` lists a question's attempts."""
