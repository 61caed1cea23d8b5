require ["fileinto"];

# Superseded by filters.sieve; kept for reference.
if header :contains "Subject" "[weekly]" {
    fileinto "Trash";
}
