;;; bench/programs/lists.lsp -- lists and pairs for ECL (bench/run.sh, part programs)
;;; As lists.scm: each round builds a list of N integers, reverses it, maps
;;; over it, zips it into a list of conses, filters, sorts a fresh copy,
;;; builds an association list and looks a few keys up in it.  The previous
;;; round's zipped list stays live while the next round runs.
;;; Size: N = 300000, 6 rounds; N = 5000, 3 rounds when PROG_SIZE=smoke.

(defparameter *smoke* (equal (ext:getenv "PROG_SIZE") "smoke"))
(defparameter *n* (if *smoke* 5000 300000))
(defparameter *rounds* (if *smoke* 3 6))

(defun iota (n start)
  (loop for i from start below (+ start n) collect i))

(defun one-round (r kept)
  (let* ((n *n*)
         (l (iota n r))
         (rv (reverse l))
         (m (mapcar (lambda (x) (- (* 3 x) r)) rv))
         (z (mapcar #'cons l m))
         (f (remove-if-not (lambda (p) (oddp (cdr p))) z))
         (s (sort (mapcar (lambda (p) (mod (* 7919 (car p)) 100003)) f) #'<))
         (al (mapcar (lambda (x) (cons x (list x x))) (subseq s 0 (min 2000 (length s)))))
         (hits (loop for k from 0 below 200 count (assoc (* k 37) al)))
         (a (append s (copy-list rv))))
    (values z
            (+ (loop for p in f sum (car p))
               (loop for x in s sum x)
               (length a) hits (length kept)))))

(defun run ()
  (let ((kept '()) (acc 0))
    (dotimes (r *rounds*)
      (multiple-value-bind (z v) (one-round r kept)
        (setf kept z)
        (incf acc v)))
    (+ acc (loop for p in kept sum (car p)))))

(format t "check: lists n ~a rounds ~a total ~a~%" *n* *rounds* (run))
