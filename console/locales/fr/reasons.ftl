# reason-<name> for every Reason of kernel/src/error.rs: why a value is refused, in French
# (English uses the kernel's own messages, as for error codes).
reason-too-long = { $max } caractères au plus.
reason-length = Saisissez de 1 à { $max } caractères.
reason-name-length = Saisissez un nom de 1 à { $max } caractères.
reason-control-characters = Retirez les caractères de contrôle.
reason-email = Saisissez une adresse e-mail valable.
reason-username = Utilisez de 3 à 64 lettres, chiffres, points, tirets bas ou tirets (sans @).
reason-phone-characters = Un numéro de téléphone ne contient que des chiffres, espaces, points, tirets ou un + au début.
reason-phone = Ce numéro de téléphone n’est pas valable.
reason-postcode = Ce code postal n’est pas valable pour le pays.
reason-country = Saisissez un code pays ISO 3166-1 à deux lettres, par exemple FR ou BE.
reason-siren = Un SIREN compte 9 chiffres, clé de contrôle valable comprise.
reason-siret = Un SIRET compte 14 chiffres, clé de contrôle valable comprise.
reason-siret-prefix = Le SIRET doit commencer par le SIREN.
reason-iban = Cet IBAN n’est pas valable.
reason-bic = Un BIC compte 8 ou 11 lettres et chiffres.
reason-individual-last-name = Saisissez le nom de ce particulier.
reason-individual-first-name = Saisissez le prénom de ce particulier.
reason-company-name = Saisissez la raison sociale de cette entreprise.
reason-amount = Saisissez un montant avec deux décimales au plus.
reason-positive-amount = Saisissez un montant positif avec deux décimales au plus.
reason-future-entry = Une écriture ne peut pas être datée dans le futur.
reason-block-reason = Indiquez pourquoi le client est bloqué.
