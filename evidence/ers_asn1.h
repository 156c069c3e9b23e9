/* RFC 4998 Evidence Record types, DER through OpenSSL ASN.1 templates.
 *
 *   EvidenceRecord ::= SEQUENCE { version INTEGER (1), digestAlgorithms SEQUENCE OF
 *       AlgorithmIdentifier, cryptoInfos [0] OPTIONAL, encryptionInfo [1] OPTIONAL,
 *       archiveTimeStampSequence ArchiveTimeStampSequence }
 *   ArchiveTimeStampSequence ::= SEQUENCE OF ArchiveTimeStampChain
 *   ArchiveTimeStampChain    ::= SEQUENCE OF ArchiveTimeStamp
 *   ArchiveTimeStamp ::= SEQUENCE { digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,
 *       attributes [1] Attributes OPTIONAL, reducedHashtree [2] SEQUENCE OF
 *       PartialHashtree OPTIONAL, timeStamp ContentInfo }
 *   PartialHashtree ::= SEQUENCE OF OCTET STRING
 * All context tags are IMPLICIT (ERS-RULES). timeStamp is kept as ASN1_ANY, so the
 * token's bytes are held exactly as received (BER included) and re-encoded
 * unchanged: renewal hashes run over those bytes.
 *
 * KURA_ATS_PARTS and KURA_ER_PARTS encode the same two types from parts that were
 * encoded before (evidence/record.c): each ASN1_TYPE in a KURA_PARTS holds one
 * complete DER element (a SEQUENCE: a PartialHashtree, an AlgorithmIdentifier, an
 * ArchiveTimeStamp), which OpenSSL writes out unchanged, so a record made of parts
 * has exactly the bytes KURA_ER gives for the same values. They are for encoding
 * only (never decoded), and their members are lent by whoever encoded the parts. */
#ifndef KURA_ERS_ASN1_H
#define KURA_ERS_ASN1_H

#include <openssl/asn1.h>
#include <openssl/safestack.h>
#include <openssl/x509.h>

DEFINE_STACK_OF(ASN1_OCTET_STRING)
typedef STACK_OF(ASN1_OCTET_STRING) KURA_PHT;
DEFINE_STACK_OF(KURA_PHT)

typedef struct KURA_ATS_st {
	X509_ALGOR *digestAlgorithm;              /* OPTIONAL */
	STACK_OF(X509_ATTRIBUTE) *attributes;     /* OPTIONAL */
	STACK_OF(KURA_PHT) *reducedHashtree;      /* OPTIONAL */
	ASN1_TYPE *timeStamp;                     /* ContentInfo, raw bytes */
} KURA_ATS;
DEFINE_STACK_OF(KURA_ATS)

typedef STACK_OF(KURA_ATS) KURA_ATS_CHAIN;
DEFINE_STACK_OF(KURA_ATS_CHAIN)
typedef STACK_OF(KURA_ATS_CHAIN) KURA_ATS_SEQ;

typedef struct KURA_ENCINFO_st {
	ASN1_OBJECT *type;
	ASN1_TYPE *value;
} KURA_ENCINFO;

typedef struct KURA_ER_st {
	ASN1_INTEGER *version;
	STACK_OF(X509_ALGOR) *digestAlgorithms;
	STACK_OF(X509_ATTRIBUTE) *cryptoInfos; /* OPTIONAL */
	KURA_ENCINFO *encryptionInfo;          /* OPTIONAL */
	KURA_ATS_SEQ *archiveTimeStampSequence;
} KURA_ER;

typedef STACK_OF(ASN1_TYPE) KURA_PARTS;
DEFINE_STACK_OF(KURA_PARTS)

typedef struct KURA_ATS_PARTS_st {
	X509_ALGOR *digestAlgorithm;
	KURA_PARTS *reducedHashtree; /* encoded PartialHashtrees; NULL: none */
	ASN1_TYPE *timeStamp;
} KURA_ATS_PARTS;

typedef struct KURA_ER_PARTS_st {
	ASN1_INTEGER *version;
	KURA_PARTS *digestAlgorithms;            /* encoded AlgorithmIdentifiers */
	STACK_OF(X509_ATTRIBUTE) *cryptoInfos;   /* OPTIONAL */
	KURA_ENCINFO *encryptionInfo;            /* OPTIONAL */
	STACK_OF(KURA_PARTS) *archiveTimeStampSequence; /* chains of encoded ATSs */
} KURA_ER_PARTS;

DECLARE_ASN1_FUNCTIONS(KURA_PHT)
DECLARE_ASN1_FUNCTIONS(KURA_ATS)
DECLARE_ASN1_FUNCTIONS(KURA_ATS_CHAIN)
DECLARE_ASN1_FUNCTIONS(KURA_ATS_SEQ)
DECLARE_ASN1_FUNCTIONS(KURA_ENCINFO)
DECLARE_ASN1_FUNCTIONS(KURA_ER)
DECLARE_ASN1_ITEM(KURA_PARTS)
DECLARE_ASN1_ITEM(KURA_ATS_PARTS)
DECLARE_ASN1_ITEM(KURA_ER_PARTS)

#endif
