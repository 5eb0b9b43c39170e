"""antispam: citizens' spam reports (5656 short code, web form), the SMS content
classifier, spam-number detection from operators' call and SMS records, blocklists,
Decree 91 checks of advertisers, and the reductions measured."""
