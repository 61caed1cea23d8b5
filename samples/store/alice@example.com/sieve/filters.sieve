require ["fileinto", "imap4flags"];

# Newsletters go to the archive, already read.
if header :contains "List-Id" "weekly.lists.example.org" {
    addflag "\\Seen";
    fileinto "Archive";
    stop;
}

# Anything about the CV goes to the Résumé folder (UTF-8 name, Dovecot encodes it).
if header :contains "Subject" ["résumé", "resume", "CV"] {
    fileinto "Résumé";
    stop;
}

# Mail from the partner is flagged for follow-up.
if address :domain :is "from" "partner.example.org" {
    addflag "\\Flagged";
}
