// Bouncy Castle (1.72) side of the kura ERS interop test (tests/cli/test_bouncycastle.sh).
//
// Modes (exit 0 on success, 1 when the record/time-stamp is rejected, 2 on bad usage);
// several commands separated by "--" run in one JVM, each printing its lines in order:
//   verify DATA ERS TRUST [TRUST...] [-at TIME]
//       Loads ERS with ERSEvidenceRecord (whose constructor checks the renewals of the
//       chains), checks that DATA is present (validatePresent, BC's own rules: last chain
//       only), finds the last time-stamp's signing certificate, builds a path from it through
//       the token's certificates to one of the TRUST certificates (PEM or DER, a file may
//       hold several), each certificate valid at TIME (default now), then checks the last
//       token's signature with record.validate(verifier) as BC's ERSTest does.
//       Prints "OK ..." or "FAIL: <exception>".
//   make DATA [DATA...] -tsa URL -out DIR
//       One SHA-256 tree over all DATA (ERSArchiveTimeStampGenerator), one RFC 3161 request
//       POSTed to URL, one evidence record per DATA written to DIR/<basename of DATA>.ers.
//   renew IN.ers -tsa URL -out OUT.ers
//       Time-stamp renewal with ERSEvidenceRecord.generateTimeStampRenewalRequest and
//       renewTimeStamp: the record gets one more ArchiveTimeStamp in its last chain.
//   dump ERS
//       Prints the shape of a record (chains, ATSs, reduced-tree list sizes, genTime).
//   mint DATA [DATA...] -hash HASH -at TIME -out DIR
//       As make, with the hash HASH (sha1, sha224, sha512-224, sha3-224, ripemd160, ...:
//       what other producers and older records use) and a TSA of its own: a fresh P-256
//       root (written to DIR/tsa-root.pem) and TSA certificate, BC's TimeStampTokenGenerator,
//       genTime (and signingTime) TIME. No network.
//
// TIME: 2017-02-10T15:00:00Z (ISO 8601, UTC). Built with:
//   javac -cp bcprov.jar:bcpkix.jar:bcutil.jar BcErsCheck.java

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.Collection;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.teletrust.TeleTrusTObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.tsp.ArchiveTimeStamp;
import org.bouncycastle.asn1.tsp.ArchiveTimeStampChain;
import org.bouncycastle.asn1.tsp.EvidenceRecord;
import org.bouncycastle.asn1.tsp.PartialHashtree;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenGenerator;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStampGenerator;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;
import org.bouncycastle.tsp.ers.ERSEvidenceRecordGenerator;
import org.bouncycastle.util.CollectionStore;
import org.bouncycastle.util.Store;

public class BcErsCheck
{
    private static final String BC = BouncyCastleProvider.PROVIDER_NAME;

    public static void main(String[] args)
    {
        Security.addProvider(new BouncyCastleProvider());
        if (args.length < 1)
        {
            usage();
        }
        // Several commands separated by "--" run in one JVM (its start-up dominates the
        // test's time); each prints its own lines, in order. Exit 0 only if all succeed.
        int status = 0;
        List<String> cmd = new ArrayList<>();
        for (int i = 0; i <= args.length; i++)
        {
            if (i < args.length && !args[i].equals("--"))
            {
                cmd.add(args[i]);
                continue;
            }
            if (cmd.isEmpty())
            {
                usage();
            }
            status = Math.max(status, run(cmd.toArray(new String[0])));
            cmd.clear();
        }
        System.out.flush();
        System.exit(status);
    }

    private static int run(String[] args)
    {
        try
        {
            switch (args[0])
            {
            case "verify":
                return verify(args);
            case "make":
                return make(args);
            case "renew":
                return renew(args);
            case "dump":
                return dump(args);
            case "mint":
                return mint(args);
            default:
                usage();
                return 2;
            }
        }
        catch (Exception e)
        {
            System.out.println("FAIL: " + describe(e));
            return 1;
        }
    }

    private static void usage()
    {
        System.out.flush();
        System.err.println("usage: BcErsCheck COMMAND [-- COMMAND]...   COMMAND is one of\n"
            + "       verify DATA ERS TRUST [TRUST...] [-at TIME]\n"
            + "       make DATA [DATA...] -tsa URL -out DIR\n"
            + "       renew IN.ers -tsa URL -out OUT.ers\n"
            + "       dump ERS\n"
            + "       mint DATA [DATA...] -hash HASH -at TIME -out DIR");
        System.exit(2);
    }

    // "ExceptionClass: message; caused by ExceptionClass: message; ...", the whole cause chain.
    private static String describe(Throwable e)
    {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (Throwable t = e; t != null && n < 6; t = t.getCause(), n++)
        {
            sb.append(n == 0 ? "" : "; caused by ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
            if (t.getCause() == t)
            {
                break;
            }
        }
        return sb.toString();
    }

    private static DigestCalculatorProvider digestProvider()
        throws Exception
    {
        return new JcaDigestCalculatorProviderBuilder().setProvider(BC).build();
    }

    // ---------------------------------------------------------------- verify

    private static int verify(String[] args)
        throws Exception
    {
        List<String> pos = new ArrayList<>();
        Date at = new Date();
        for (int i = 1; i < args.length; i++)
        {
            if (args[i].equals("-at") && i + 1 < args.length)
            {
                at = Date.from(Instant.parse(args[++i]));
            }
            else
            {
                pos.add(args[i]);
            }
        }
        if (pos.size() < 3)
        {
            usage();
        }
        byte[] data = Files.readAllBytes(new File(pos.get(0)).toPath());
        byte[] ers = Files.readAllBytes(new File(pos.get(1)).toPath());
        List<X509CertificateHolder> trust = new ArrayList<>();
        for (String f : pos.subList(2, pos.size()))
        {
            trust.addAll(loadCerts(f));
        }
        if (trust.isEmpty())
        {
            throw new IllegalArgumentException("no certificate in the trust files");
        }

        // The constructor parses the record and checks every time-stamp renewal inside the
        // chains (each ATS covers the previous one) with BC's rules.
        ERSEvidenceRecord record = new ERSEvidenceRecord(ers, digestProvider());

        // BC's data check: the first ATS of the LAST chain must cover DATA (for a hash-tree
        // renewal chain: H(H(DATA) || H(earlier chains))); earlier chains are not checked.
        record.validatePresent(new ERSByteData(data), at);

        // The last time-stamp: its signer, a path to a trust anchor, then its signature.
        EvidenceRecord asn1 = record.toASN1Structure();
        ArchiveTimeStampChain[] chains = asn1.getArchiveTimeStampSequence().getArchiveTimeStampChains();
        ArchiveTimeStamp[] lastChain = chains[chains.length - 1].getArchiveTimestamps();
        TimeStampToken lastToken = new TimeStampToken(lastChain[lastChain.length - 1].getTimeStamp());
        X509CertificateHolder signer = record.getSigningCertificate();
        if (signer == null)
        {
            throw new IllegalStateException("the last time-stamp token carries no signing certificate");
        }
        String path = checkPath(signer, lastToken.getCertificates(), trust, at);

        SignerInformationVerifier verifier = new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(signer);
        record.validate(verifier);

        System.out.println("OK chains=" + chains.length + " lastChainATS=" + lastChain.length
            + " rht=" + shape(lastChain[0].getReducedHashTree())
            + " genTime=" + lastToken.getTimeStampInfo().getGenTime().toInstant()
            + " path=" + path);
        return 0;
    }

    private static List<X509CertificateHolder> loadCerts(String file)
        throws Exception
    {
        List<X509CertificateHolder> out = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(new File(file).toPath())))
        {
            for (Certificate c : cf.generateCertificates(in))
            {
                out.add(new JcaX509CertificateHolder((X509Certificate)c));
            }
        }
        return out;
    }

    // signer -> (token certificates)* -> trust anchor; every signature checked, every
    // certificate (the anchor too) valid at `at`. Returns the path as "CN -> CN -> ...".
    private static String checkPath(X509CertificateHolder signer, Store<X509CertificateHolder> tokenCerts,
                                    List<X509CertificateHolder> trust, Date at)
        throws Exception
    {
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> pool = tokenCerts.getMatches(null);
        StringBuilder path = new StringBuilder();
        X509CertificateHolder cur = signer;
        for (int depth = 0; depth < 8; depth++)
        {
            path.append(depth == 0 ? "" : " -> ").append(cur.getSubject());
            if (!cur.isValidOn(at))
            {
                throw new IllegalStateException("certificate " + cur.getSubject() + " is not valid at " + at.toInstant()
                    + " (" + cur.getNotBefore().toInstant() + ".." + cur.getNotAfter().toInstant() + ")");
            }
            for (X509CertificateHolder t : trust)
            {
                if (t.equals(cur))
                {
                    return path.append(" [trusted]").toString();
                }
            }
            for (X509CertificateHolder t : trust)
            {
                if (t.getSubject().equals(cur.getIssuer()) && signedBy(cur, t))
                {
                    if (!t.isValidOn(at))
                    {
                        throw new IllegalStateException("trust anchor " + t.getSubject() + " is not valid at " + at.toInstant());
                    }
                    return path.append(" -> ").append(t.getSubject()).append(" [trusted]").toString();
                }
            }
            X509CertificateHolder next = null;
            for (X509CertificateHolder c : pool)
            {
                if (!c.equals(cur) && c.getSubject().equals(cur.getIssuer()) && signedBy(cur, c))
                {
                    next = c;
                    break;
                }
            }
            if (next == null)
            {
                throw new IllegalStateException("no path from " + signer.getSubject() + " to a trusted certificate (stuck at issuer "
                    + cur.getIssuer() + ")");
            }
            cur = next;
        }
        throw new IllegalStateException("certificate path too long");
    }

    private static boolean signedBy(X509CertificateHolder cert, X509CertificateHolder issuer)
    {
        try
        {
            ContentVerifierProvider vp = new JcaContentVerifierProviderBuilder().setProvider(BC).build(issuer);
            return cert.isSignatureValid(vp);
        }
        catch (Exception e)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- make / renew

    private static int make(String[] args)
        throws Exception
    {
        List<String> files = new ArrayList<>();
        String url = null;
        String out = null;
        for (int i = 1; i < args.length; i++)
        {
            if (args[i].equals("-tsa") && i + 1 < args.length)
            {
                url = args[++i];
            }
            else if (args[i].equals("-out") && i + 1 < args.length)
            {
                out = args[++i];
            }
            else
            {
                files.add(args[i]);
            }
        }
        if (files.isEmpty() || url == null || out == null)
        {
            usage();
        }
        DigestCalculatorProvider dcp = digestProvider();
        // SHA-256 with parameters absent (RFC 5754), as BC's own tests do.
        DigestCalculator sha256 = dcp.get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256));
        ERSArchiveTimeStampGenerator gen = new ERSArchiveTimeStampGenerator(sha256);
        List<ERSData> data = new ArrayList<>();
        for (String f : files)
        {
            ERSData d = new ERSByteData(Files.readAllBytes(new File(f).toPath()));
            data.add(d);
            gen.addData(d);
        }
        TimeStampRequestGenerator reqGen = new TimeStampRequestGenerator();
        reqGen.setCertReq(true);
        TimeStampRequest req = gen.generateTimeStampRequest(reqGen, new BigInteger(63, new SecureRandom()));
        TimeStampResponse resp = postRequest(url, req);

        List<ERSArchiveTimeStamp> atss = gen.generateArchiveTimeStamps(resp);
        if (atss.size() != files.size())
        {
            throw new IllegalStateException("generator returned " + atss.size() + " archive time-stamps for " + files.size() + " objects");
        }
        ERSEvidenceRecordGenerator erGen = new ERSEvidenceRecordGenerator(dcp);
        new File(out).mkdirs();
        Date now = new Date();
        for (int i = 0; i < files.size(); i++)
        {
            // Do not rely on the order of the list: take the ATS that covers this object.
            ERSArchiveTimeStamp mine = null;
            for (ERSArchiveTimeStamp a : atss)
            {
                if (a.isContaining(data.get(i), now))
                {
                    mine = a;
                    break;
                }
            }
            if (mine == null)
            {
                throw new IllegalStateException("no archive time-stamp covers " + files.get(i));
            }
            ERSEvidenceRecord er = erGen.generate(mine);
            er.validatePresent(data.get(i), now);
            File dst = new File(out, new File(files.get(i)).getName() + ".ers");
            Files.write(dst.toPath(), er.getEncoded());
            System.out.println("WROTE " + dst.getPath());
        }
        return 0;
    }

    private static int renew(String[] args)
        throws Exception
    {
        String in = null;
        String url = null;
        String out = null;
        for (int i = 1; i < args.length; i++)
        {
            if (args[i].equals("-tsa") && i + 1 < args.length)
            {
                url = args[++i];
            }
            else if (args[i].equals("-out") && i + 1 < args.length)
            {
                out = args[++i];
            }
            else if (in == null)
            {
                in = args[i];
            }
            else
            {
                usage();
            }
        }
        if (in == null || url == null || out == null)
        {
            usage();
        }
        DigestCalculatorProvider dcp = digestProvider();
        ERSEvidenceRecord er = new ERSEvidenceRecord(Files.readAllBytes(new File(in).toPath()), dcp);
        TimeStampRequestGenerator reqGen = new TimeStampRequestGenerator();
        reqGen.setCertReq(true);
        TimeStampRequest req = er.generateTimeStampRenewalRequest(reqGen, new BigInteger(63, new SecureRandom()));
        TimeStampResponse resp = postRequest(url, req);
        ERSEvidenceRecord renewed = er.renewTimeStamp(resp);
        // Reload from the bytes: the constructor re-checks the chain, as BC's ERSTest does.
        renewed = new ERSEvidenceRecord(renewed.getEncoded(), dcp);
        Files.write(new File(out).toPath(), renewed.getEncoded());
        ArchiveTimeStampChain[] chains = renewed.toASN1Structure().getArchiveTimeStampSequence().getArchiveTimeStampChains();
        System.out.println("WROTE " + out + " chains=" + chains.length + " lastChainATS="
            + chains[chains.length - 1].getArchiveTimestamps().length);
        return 0;
    }

    // POST an RFC 3161 request (RFC 3161 section 3.4 HTTP transport), parse and check the answer.
    private static TimeStampResponse postRequest(String url, TimeStampRequest req)
        throws Exception
    {
        byte[] body = req.getEncoded();
        HttpURLConnection c = (HttpURLConnection)new URL(url).openConnection();
        c.setConnectTimeout(10000);
        c.setReadTimeout(20000);
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/timestamp-query");
        c.setRequestProperty("Accept", "application/timestamp-reply");
        c.setFixedLengthStreamingMode(body.length);
        try (OutputStream os = c.getOutputStream())
        {
            os.write(body);
        }
        int code = c.getResponseCode();
        if (code != 200)
        {
            throw new IOException("TSA " + url + " answered HTTP " + code);
        }
        String ct = c.getContentType();
        byte[] answer;
        try (InputStream is = c.getInputStream())
        {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = is.read(buf)) > 0)
            {
                bo.write(buf, 0, n);
            }
            answer = bo.toByteArray();
        }
        if (ct == null || !ct.toLowerCase().startsWith("application/timestamp-reply"))
        {
            System.err.println("warning: TSA answered Content-Type " + ct);
        }
        TimeStampResponse resp = new TimeStampResponse(answer);
        // status granted, nonce, imprint, certReq honoured, signer certificate usable for TSA
        resp.validate(req);
        if (resp.getTimeStampToken() == null)
        {
            throw new IllegalStateException("TSA refused: status " + resp.getStatus() + " " + resp.getStatusString());
        }
        return resp;
    }

    // ---------------------------------------------------------------- mint

    private static ASN1ObjectIdentifier hashOid(String name)
    {
        switch (name)
        {
        case "sha1": return OIWObjectIdentifiers.idSHA1;
        case "sha224": return NISTObjectIdentifiers.id_sha224;
        case "sha256": return NISTObjectIdentifiers.id_sha256;
        case "sha512-224": return NISTObjectIdentifiers.id_sha512_224;
        case "sha512-256": return NISTObjectIdentifiers.id_sha512_256;
        case "sha3-224": return NISTObjectIdentifiers.id_sha3_224;
        case "ripemd160": return TeleTrusTObjectIdentifiers.ripemd160;
        default: throw new IllegalArgumentException("mint knows no hash " + name);
        }
    }

    private static X509CertificateHolder certify(X500Name subject, PublicKey key, X500Name issuer, PrivateKey signer,
        boolean ca)
        throws Exception
    {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(63, new SecureRandom()),
            Date.from(Instant.parse("2000-01-01T00:00:00Z")), Date.from(Instant.parse("2049-12-31T00:00:00Z")),
            subject, key);
        if (ca)
        {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        }
        else
        {
            b.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        }
        return b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(signer));
    }

    private static int mint(String[] args)
        throws Exception
    {
        List<String> files = new ArrayList<>();
        String hash = null, at = null, out = null;
        for (int i = 1; i < args.length; i++)
        {
            if (args[i].equals("-hash") && i + 1 < args.length)
            {
                hash = args[++i];
            }
            else if (args[i].equals("-at") && i + 1 < args.length)
            {
                at = args[++i];
            }
            else if (args[i].equals("-out") && i + 1 < args.length)
            {
                out = args[++i];
            }
            else
            {
                files.add(args[i]);
            }
        }
        if (files.isEmpty() || hash == null || at == null || out == null)
        {
            usage();
        }
        Date genTime = Date.from(Instant.parse(at));
        ASN1ObjectIdentifier oid = hashOid(hash);
        DigestCalculatorProvider dcp = digestProvider();
        ERSArchiveTimeStampGenerator gen = new ERSArchiveTimeStampGenerator(dcp.get(new AlgorithmIdentifier(oid)));
        List<ERSData> data = new ArrayList<>();
        for (String f : files)
        {
            ERSData d = new ERSByteData(Files.readAllBytes(new File(f).toPath()));
            data.add(d);
            gen.addData(d);
        }
        TimeStampRequestGenerator reqGen = new TimeStampRequestGenerator();
        reqGen.setCertReq(true);
        TimeStampRequest req = gen.generateTimeStampRequest(reqGen, new BigInteger(63, new SecureRandom()));

        // the TSA: a root and a TSA certificate of its own
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", BC);
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair rootKey = kpg.generateKeyPair(), tsaKey = kpg.generateKeyPair();
        X500Name rootName = new X500Name("CN=BC mint root " + hash), tsaName = new X500Name("CN=BC mint TSA " + hash);
        X509CertificateHolder root = certify(rootName, rootKey.getPublic(), rootName, rootKey.getPrivate(), true);
        X509CertificateHolder tsa = certify(tsaName, tsaKey.getPublic(), rootName, rootKey.getPrivate(), false);
        new File(out).mkdirs();
        try (OutputStream os = new FileOutputStream(new File(out, "tsa-root.pem")))
        {
            os.write(("-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(root.getEncoded())
                + "\n-----END CERTIFICATE-----\n").getBytes());
        }
        // signingTime is genTime, not the clock of this machine
        AttributeTable signed = new AttributeTable(new Attribute(CMSAttributes.signingTime, new DERSet(new Time(genTime))));
        SignerInfoGenerator sig = new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().setProvider(BC).build())
            .setSignedAttributeGenerator(new DefaultSignedAttributeTableGenerator(signed))
            .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(tsaKey.getPrivate()), tsa);
        TimeStampTokenGenerator tokGen = new TimeStampTokenGenerator(sig,
            dcp.get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)), new ASN1ObjectIdentifier("1.3.6.1.4.1.4146.2.3"));
        tokGen.addCertificates(new CollectionStore<>(List.of(tsa)));
        Set<ASN1ObjectIdentifier> allowed = new HashSet<>(TSPAlgorithms.ALLOWED);
        allowed.add(oid);
        TimeStampResponse resp = new TimeStampResponseGenerator(tokGen, allowed)
            .generate(req, new BigInteger(63, new SecureRandom()), genTime);
        resp.validate(req);

        List<ERSArchiveTimeStamp> atss = gen.generateArchiveTimeStamps(resp);
        ERSEvidenceRecordGenerator erGen = new ERSEvidenceRecordGenerator(dcp);
        for (int i = 0; i < files.size(); i++)
        {
            ERSArchiveTimeStamp mine = null;
            for (ERSArchiveTimeStamp a : atss)
            {
                if (a.isContaining(data.get(i), genTime))
                {
                    mine = a;
                    break;
                }
            }
            if (mine == null)
            {
                throw new IllegalStateException("no archive time-stamp covers " + files.get(i));
            }
            ERSEvidenceRecord er = erGen.generate(mine);
            er.validatePresent(data.get(i), genTime);
            File dst = new File(out, new File(files.get(i)).getName() + ".ers");
            Files.write(dst.toPath(), er.getEncoded());
            System.out.println("WROTE " + dst.getPath() + " hash=" + oid.getId());
        }
        return 0;
    }

    // ---------------------------------------------------------------- dump

    // The number of values in each list of a reduced hash tree: "[1,1,1]", or "absent".
    private static String shape(PartialHashtree[] rht)
    {
        if (rht == null)
        {
            return "absent";
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < rht.length; i++)
        {
            sb.append(i == 0 ? "" : ",").append(rht[i].getValueCount());
        }
        return sb.append("]").toString();
    }

    private static int dump(String[] args)
        throws Exception
    {
        if (args.length != 2)
        {
            usage();
        }
        EvidenceRecord er = EvidenceRecord.getInstance(Files.readAllBytes(new File(args[1]).toPath()));
        ArchiveTimeStampChain[] chains = er.getArchiveTimeStampSequence().getArchiveTimeStampChains();
        for (int c = 0; c < chains.length; c++)
        {
            ArchiveTimeStamp[] atss = chains[c].getArchiveTimestamps();
            for (int a = 0; a < atss.length; a++)
            {
                TimeStampToken tst = new TimeStampToken(atss[a].getTimeStamp());
                System.out.println("chain " + c + " ats " + a + " alg=" + atss[a].getDigestAlgorithmIdentifier().getAlgorithm()
                    + " rht=" + shape(atss[a].getReducedHashTree())
                    + " genTime=" + tst.getTimeStampInfo().getGenTime().toInstant());
            }
        }
        return 0;
    }
}
