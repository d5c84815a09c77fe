"""Business writes of credit repair: accounts (accounts), applications (applications), repair notices (notices)."""
